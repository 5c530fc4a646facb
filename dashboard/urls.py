from dashboard import views
from viztube.api.routes import route

urlpatterns = [
    route("dashboard/stats", views.ChannelStatsView.as_view(), name="dashboard-stats"),
    route("dashboard/videos", views.ChannelVideoListView.as_view(), name="dashboard-videos"),
]
