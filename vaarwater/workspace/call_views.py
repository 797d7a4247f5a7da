"""The call screen: the customer view beside a keyboard-friendly outcome form."""

from django.http import HttpResponse

from .access import back_office_required


@back_office_required
def call_detail(request, pk: int):
    return HttpResponse("todo")
