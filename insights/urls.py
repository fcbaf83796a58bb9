from django.urls import path

from . import views

app_name = "insights"

urlpatterns = [
    path("", views.insights_page, name="insights"),
    path("words/", views.words_page, name="words"),
    path("datapackage.json", views.datapackage_json, name="datapackage"),
    path("insights.zip", views.datapackage_zip, name="datapackage_zip"),
    path("<slug:name>.csv", views.table_csv, name="table_csv"),
]
