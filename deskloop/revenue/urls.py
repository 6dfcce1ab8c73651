"""The revenue pages, under /revenue/."""

from django.urls import path

from deskloop.revenue.views import churn, deals, imports, reports

app_name = "revenue"

urlpatterns = [
    path("", deals.deal_list, name="deals"),
    path("deals/new/", deals.deal_new, name="deal_new"),
    path("deals/<int:deal_id>/", deals.deal_detail, name="deal"),
    path("churn/", churn.churn_list, name="churn"),
    path("churn/new/", churn.churn_new, name="churn_new"),
    path("churn/<int:churn_record_id>/", churn.churn_detail, name="churn_record"),
    path("reports/", reports.churn_reports, name="reports"),
    path("import/", imports.import_csv, name="import"),
]
