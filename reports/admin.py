"""Plugs the staff reports into the admin site: the SLA page (`admin:sla`), the MarketSafe program report
(`admin:program_report`) and the DSA transparency report (`admin:dsa_report`). Django imports this module
when the admin discovers each app's admin module."""

from django.contrib import admin

from reports.views import DSAReportView, ProgramReportView, SLAView

admin.site.register_page("sla/", SLAView, name="sla")
admin.site.register_page("program/", ProgramReportView, name="program_report")
admin.site.register_page("dsa/", DSAReportView, name="dsa_report")
