from ops import views
from viztube.api.routes import route

urlpatterns = [
    route("videos/<uuid:video_id>", views.VideoDetailView.as_view(), name="video-detail"),
]
