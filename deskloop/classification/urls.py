from django.urls import path

from deskloop.classification import views

app_name = "classification"

urlpatterns = [
    path("tickets/<int:number>/suggestion/accept/", views.accept, name="accept"),
    path("tickets/<int:number>/suggestion/dismiss/", views.dismiss, name="dismiss"),
]
