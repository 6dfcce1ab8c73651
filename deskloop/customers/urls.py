from django.urls import path

from deskloop.customers import views, views_segments

app_name = "customers"

urlpatterns = [
    path("contacts/", views.contact_list, name="contacts"),
    path("contacts/new/", views.contact_create, name="contact_create"),
    path("contacts/<int:contact_id>/", views.contact_detail, name="contact"),
    path("contacts/<int:contact_id>/emails/", views.contact_email_add, name="contact_email_add"),
    path("contacts/<int:contact_id>/emails/<int:email_id>/", views.contact_email_action, name="contact_email_action"),
    path("organizations/", views.organization_list, name="organizations"),
    path("organizations/new/", views.organization_create, name="organization_create"),
    path("organizations/<int:organization_id>/", views.organization_detail, name="organization"),
    path("customers/segments/", views_segments.segment_list, name="segments"),
    path("customers/segments/new/", views_segments.segment_create, name="segment_create"),
    path("customers/segments/<int:segment_id>/", views_segments.segment_detail, name="segment"),
    path("customers/segments/<int:segment_id>/delete/", views_segments.segment_delete, name="segment_delete"),
]
