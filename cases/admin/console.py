"""What every admin of the moderator console shares: who may decide, and the console's stylesheet and URLs.

The permissions are checked by the admins themselves (the services check the rules that hold whoever
calls): `cases.decide_caseitem` (the Moderators group: accept, reject, ask for clarification, assign,
release), `cases.decide_appeal` (Moderation leads) and `cases.view_evidence` (downloads).
"""

from typing import Any

from django.urls import reverse
from django.utils.html import format_html

from cases.models import CaseItem

#: Who may accept, reject, ask for clarification, assign and release (the Moderators group).
DECIDE_PERMISSION = "cases.decide_caseitem"
#: Who may decide appeals (the Moderation leads group).
DECIDE_APPEAL_PERMISSION = "cases.decide_appeal"
#: Who may download evidence and the documents of the rights a case relies on.
VIEW_EVIDENCE_PERMISSION = "cases.view_evidence"


class ConsoleAdminMixin:
    """The console's stylesheet, and the names of the views a console admin adds to the stock ones."""

    class Media:
        css = {"all": ("css/admin-console.css",)}

    def _url_name(self, view: str) -> str:
        return f"{self.opts.app_label}_{self.opts.model_name}_{view}"

    def _url(self, view: str, *args: Any) -> str:
        return reverse(f"{self.admin_site.name}:{self._url_name(view)}", args=args)

    def _item_link(self, item: CaseItem) -> str:
        url = reverse(f"{self.admin_site.name}:cases_caseitem_change", args=[item.pk])
        return format_html('<a href="{}">{}</a>', url, item)
