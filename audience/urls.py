from django.urls import path

from . import beacon

app_name = "audience"
urlpatterns = [path("listened", beacon.listened, name="listened")]
