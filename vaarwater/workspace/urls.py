from django.urls import path

from . import views

app_name = "workspace"
urlpatterns = [
    path("", views.debtor_list, name="debtor_list"),
    path("cases/", views.case_list, name="case_list"),
    path("cases/<int:pk>/", views.case_detail, name="case_detail"),
    path("strategies/", views.strategy_list, name="strategy_list"),
    path("strategies/<int:pk>/", views.strategy_detail, name="strategy_detail"),
]
