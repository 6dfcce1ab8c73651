"""The one NinjaAPI at /api/v1/ (routers are added by the API work)."""

from ninja import NinjaAPI

api = NinjaAPI(title="Deskloop API", version="1.0.0", urls_namespace="api")
