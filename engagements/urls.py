"""Pages of the engagements app."""

from django.urls import path

from . import desk_views, views

app_name = "engagements"

urlpatterns = [
    path("", views.engagement_list, name="engagement_list"),
    path("new/", views.engagement_create, name="engagement_create"),
    path("<int:engagement_pk>/", views.engagement_detail, name="engagement_detail"),
    path("<int:engagement_pk>/transition/", views.engagement_transition, name="engagement_transition"),
    path("<int:engagement_pk>/team/add/", views.team_add, name="team_add"),
    path("team/<int:team_member_pk>/remove/", views.team_remove, name="team_remove"),
    path("milestones/<int:milestone_pk>/update/", views.milestone_update, name="milestone_update"),
    path("<int:engagement_pk>/board/", views.pipeline_board, name="pipeline_board"),
    path("<int:engagement_pk>/opportunities/", views.opportunity_list, name="opportunity_list"),
    path("<int:engagement_pk>/opportunities/add/", views.opportunity_add, name="opportunity_add"),
    path(
        "<int:engagement_pk>/opportunities/from-target-list/",
        views.opportunities_from_targets,
        name="opportunities_from_targets",
    ),
    path("opportunities/<int:opportunity_pk>/", views.opportunity_detail, name="opportunity_detail"),
    path("opportunities/<int:opportunity_pk>/move/", views.opportunity_move, name="opportunity_move"),
    path("opportunities/<int:opportunity_pk>/edit/", views.opportunity_edit, name="opportunity_edit"),
    path("<int:engagement_pk>/attributions/add/", views.attribution_add, name="attribution_add"),
    path("<int:engagement_pk>/msp-options/", views.msp_options, name="msp_options"),
    path("attributions/<int:attribution_pk>/end/", views.attribution_end, name="attribution_end"),
    path("<int:engagement_pk>/activities/add/", views.activity_add, name="activity_add"),
    path("attributions/<int:attribution_pk>/resolve/", desk_views.attribution_resolve, name="attribution_resolve"),
    path("<int:engagement_pk>/probabilities/", desk_views.stage_probabilities, name="stage_probabilities"),
    path("<int:engagement_pk>/steps/add/", desk_views.next_step_add, name="next_step_add"),
    path("steps/", desk_views.next_step_list, name="next_step_list"),
    path("steps/<int:next_step_pk>/done/", desk_views.next_step_done, name="next_step_done"),
    path(
        "portal/attributions/<int:attribution_pk>/acknowledge/",
        desk_views.portal_attribution_acknowledge,
        name="portal_attribution_acknowledge",
    ),
    path(
        "portal/attributions/<int:attribution_pk>/dispute/",
        desk_views.portal_attribution_dispute,
        name="portal_attribution_dispute",
    ),
    path("portal/", views.portal, name="portal"),
    path("portal/opportunities/add/", views.portal_opportunity_add, name="portal_opportunity_add"),
    path("portal/msp-options/", views.portal_msp_options, name="portal_msp_options"),
]
