"""Ticket settings under /settings/: statuses, custom fields, tags, product areas, macros, team removal."""

from django.urls import path

from deskloop.tickets.views import admin, admin_groups, admin_macros, admin_names

app_name = "admin_settings"

urlpatterns = [
    path("statuses/", admin.statuses, name="statuses"),
    path("statuses/<int:status_id>/", admin.status_detail, name="status"),
    path("statuses/<int:status_id>/move/", admin.status_move, name="status_move"),
    path("statuses/<int:status_id>/default/", admin.status_default, name="status_default"),
    path("statuses/<int:status_id>/delete/", admin.status_delete, name="status_delete"),
    path("fields/", admin.fields, name="fields"),
    path("fields/<int:field_id>/", admin.field_detail, name="field"),
    path("fields/<int:field_id>/move/", admin.field_move, name="field_move"),
    path("fields/<int:field_id>/delete/", admin.field_delete, name="field_delete"),
    path("tags/", admin_groups.tags, name="tags"),
    path("tags/<int:tag_id>/", admin_groups.tag_detail, name="tag"),
    path("tags/<int:tag_id>/merge/", admin_groups.tag_merge, name="tag_merge"),
    path("tags/<int:tag_id>/delete/", admin_groups.tag_delete, name="tag_delete"),
    path("product-areas/", admin_groups.areas, name="areas"),
    path("product-areas/<int:area_id>/", admin_groups.area_detail, name="area"),
    path("product-areas/<int:area_id>/delete/", admin_groups.area_delete, name="area_delete"),
    path("macros/", admin_macros.macros, name="macros"),
    path("macros/new/", admin_macros.macro_create, name="macro_create"),
    path("macros/<int:macro_id>/", admin_macros.macro_detail, name="macro"),
    path("macros/<int:macro_id>/delete/", admin_macros.macro_delete, name="macro_delete"),
    path("teams/<int:team_id>/delete/", admin_groups.team_delete, name="team_delete"),
    # Per-language names: one view, one route per kind of vocabulary.
    path("statuses/<int:status_id>/names/", admin_names.names, {"kind": "status"}, name="status_names"),
    path("fields/<int:field_id>/names/", admin_names.names, {"kind": "field"}, name="field_names"),
    path("product-areas/<int:area_id>/names/", admin_names.names, {"kind": "area"}, name="area_names"),
    path("teams/<int:team_id>/names/", admin_names.names, {"kind": "team"}, name="team_names"),
]
