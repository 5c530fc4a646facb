from dashboard.views import DashboardViewSet
from viztube.api.routes import route

urlpatterns = [
    route("dashboard/stats", DashboardViewSet.as_view({"get": "stats"}), name="dashboard-stats"),
    route("dashboard/videos", DashboardViewSet.as_view({"get": "videos"}), name="dashboard-videos"),
]
