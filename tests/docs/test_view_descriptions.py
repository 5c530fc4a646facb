"""The browsable API shows view docstrings rendered as Markdown, not raw reStructuredText."""

from ops.views import VideoDetailViewSet
from videos.views import WatchHistoryViewSet
from viztube.api.descriptions import view_description


def test_an_actions_docstring_renders_its_code_as_html():
    view = VideoDetailViewSet(action="retrieve")

    html = view_description(view, html=True)

    assert "<code>GET /videos/:videoId</code>" in html
    assert "``" not in html


def test_without_an_action_the_class_docstring_is_shown():
    text = view_description(WatchHistoryViewSet(), html=False)

    assert text.startswith("The caller's own watch history: `GET` and `DELETE /user/watch-history`")
