"""The supervisor's view: queue sizes, reach, promises, work per agent; reassigning work."""

from django.http import HttpResponse

from .access import back_office_required


@back_office_required(role="supervisor")
def supervisor(request):
    return HttpResponse("todo")
