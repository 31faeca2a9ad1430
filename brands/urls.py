"""Brand pages, mounted under /b/<brand_slug>/ (namespace "brands")."""

from django.urls import path

from brands import views

app_name = "brands"

urlpatterns = [
    path("", views.BrandOverviewView.as_view(), name="overview"),
    path("team/", views.TeamView.as_view(), name="team"),
    path("team/invite/", views.TeamInviteView.as_view(), name="team_invite"),
    path("team/invitations/<int:pk>/revoke/", views.InvitationRevokeView.as_view(), name="invitation_revoke"),
    path("team/members/<int:pk>/", views.MemberUpdateView.as_view(), name="member_update"),
    path("team/members/<int:pk>/remove/", views.MemberRemoveView.as_view(), name="member_remove"),
    path("rights/", views.IPRightListView.as_view(), name="right_list"),
    path("rights/add/", views.IPRightCreateView.as_view(), name="right_create"),
    path("rights/<int:pk>/", views.IPRightDetailView.as_view(), name="right_detail"),
    path("rights/<int:pk>/edit/", views.IPRightUpdateView.as_view(), name="right_update"),
    path("rights/<int:pk>/retire/", views.IPRightRetireView.as_view(), name="right_retire"),
    path("rights/<int:pk>/documents/add/", views.IPRightDocumentCreateView.as_view(), name="right_document_create"),
    path(
        "rights/documents/<int:pk>/download/",
        views.IPRightDocumentDownloadView.as_view(),
        name="right_document_download",
    ),
    path("program/", views.ProgramView.as_view(), name="program"),
    path("program/apply/", views.ProgramApplyView.as_view(), name="program_apply"),
    path(
        "program/documents/<int:pk>/download/",
        views.ApplicationDocumentDownloadView.as_view(),
        name="application_document_download",
    ),
]
