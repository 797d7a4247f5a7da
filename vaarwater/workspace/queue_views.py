"""The agent's queue page and the "next case" button."""

from django.http import HttpResponse

from .access import back_office_required


@back_office_required
def queue(request):
    return HttpResponse("todo")


@back_office_required
def queue_next(request):
    return HttpResponse("todo")
