from django.urls import path

from . import (
    arrangement_views,
    auth_views,
    call_views,
    contact_views,
    inbound,
    question_views,
    queue_views,
    statement_views,
    supervisor_views,
    task_views,
    template_views,
    views,
)

app_name = "workspace"
urlpatterns = [
    path("login/", auth_views.login, name="login"),
    path("logout/", auth_views.logout, name="logout"),
    path("", views.debtor_list, name="debtor_list"),
    path("cases/", views.case_list, name="case_list"),
    path("cases/<int:pk>/", views.case_detail, name="case_detail"),
    path("cases/<int:pk>/hold/", views.case_hold, name="case_hold"),
    path("cases/<int:pk>/hold/<int:hold_pk>/end/", views.case_hold_end, name="case_hold_end"),
    path("cases/<int:pk>/links/revoke/", views.case_links_revoke, name="case_links_revoke"),
    path("cases/<int:pk>/plan/", arrangement_views.case_plan, name="case_plan"),
    path("strategies/", views.strategy_list, name="strategy_list"),
    path("tasks/", task_views.task_list, name="task_list"),
    path("inbound/", inbound.inbound, name="inbound"),
    path("queue/", queue_views.queue, name="queue"),
    path("queue/next/", queue_views.queue_next, name="queue_next"),
    path("calls/<int:pk>/", call_views.call_detail, name="call_detail"),
    path("supervisor/", supervisor_views.supervisor, name="supervisor"),
    path("tasks/<int:pk>/done/", task_views.task_done, name="task_done"),
    path("questions/", question_views.questions, name="questions"),
    path("statements/", statement_views.statements, name="statements"),
    path(
        "statements/<int:pk>/assign/",
        statement_views.statement_assign_view,
        name="statement_assign",
    ),
    path("statements/entries/<int:pk>/", statement_views.statement_entry, name="statement_entry"),
    path(
        "statements/entries/<int:pk>/ignore/",
        statement_views.statement_entry_ignore,
        name="statement_entry_ignore",
    ),
    path("contact/unreachable/", contact_views.unreachable, name="unreachable"),
    path("messages/<int:pk>/letter.pdf", contact_views.message_letter, name="message_letter"),
    path("strategies/<int:pk>/", views.strategy_detail, name="strategy_detail"),
    path("templates/", template_views.template_list, name="template_list"),
    path(
        "templates/<slug:key>/<slug:channel>/<slug:language>/",
        template_views.template_detail,
        name="template_detail",
    ),
    path(
        "templates/<slug:key>/<slug:channel>/<slug:language>/restore/",
        template_views.template_restore,
        name="template_restore",
    ),
]
