"""What the browsable API shows as a view's description."""

import re

from rest_framework.utils import formatting

# Docstrings here write code as ``name`` (reStructuredText); Markdown writes `name`.
_RST_LITERAL = re.compile(r"``(.+?)``", re.DOTALL)


def view_description(view, html=False):
    """The docstring of the view's action (a viewset's ``list``, ``create``...), else of its
    class, dedented, with reStructuredText literals as Markdown code, rendered as Markdown."""
    action = getattr(view, "action", None)
    handler = getattr(view, action, None) if action else None
    description = getattr(view, "description", None) or (
        (handler.__doc__ if handler is not None else None) or view.__class__.__doc__ or ""
    )
    description = _RST_LITERAL.sub(r"`\1`", formatting.dedent(description))
    if html:
        return formatting.markup_description(description)
    return description
