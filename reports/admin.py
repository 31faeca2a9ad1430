"""Plugs the staff reports into the admin site: the SLA page (`admin:sla`) and the MarketSafe program report
(`admin:program_report`). Django imports this module when the admin discovers each app's admin module."""

from django.contrib import admin

from reports.views import ProgramReportView, SLAView

admin.site.register_page("sla/", SLAView, name="sla")
admin.site.register_page("program/", ProgramReportView, name="program_report")
