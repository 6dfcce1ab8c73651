"""The help center under /help/<workspace-slug>/ (config.urls includes this with that prefix)."""

from django.urls import path

from deskloop.knowledge.helpcenter import (
    converters,  # noqa: F401  (registers "helplocale")
    views,
)

app_name = "helpcenter"

urlpatterns = [
    path("", views.home, name="home"),
    path("sitemap.xml", views.sitemap, name="sitemap"),
    path("<helplocale:locale>/", views.locale_home, name="locale_home"),
    path("<helplocale:locale>/search", views.search, name="search"),
    path("<helplocale:locale>/c/<str:category_slug>/", views.category, name="category"),
    path("<helplocale:locale>/articles/<int:article_id>-<str:article_slug>/", views.article, name="article"),
    path("<helplocale:locale>/articles/<int:article_id>/feedback", views.feedback, name="feedback"),
]
