"""Forms of the officer pages; the services check values and name the field at fault."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from beacon.core.models import Area, AreaKind, Community, User
from beacon.core.roles import Role
from beacon.officers.models import ActivityKind, OfficerProfile


class ProfileForm(forms.Form):
    display_name = forms.CharField(label=_("Name shown to the public"), max_length=120)
    title = forms.CharField(label=_("Rank or title"), max_length=120, required=False)
    introduction = forms.CharField(
        label=_("Introduction"), required=False, widget=forms.Textarea(attrs={"rows": 5})
    )
    languages = forms.CharField(
        label=_("Languages"), required=False, help_text=_("Separate them with commas.")
    )
    office_hours = forms.CharField(
        label=_("Office hours"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One per line: Tuesday 10:00-12:00 Kitsilano Community Centre"),
    )
    contact_email = forms.EmailField(label=_("Public email"), required=False)
    contact_phone = forms.CharField(label=_("Public phone"), max_length=40, required=False)
    contact_note = forms.CharField(label=_("How to reach me"), max_length=300, required=False)
    photo = forms.FileField(label=_("Photo"), required=False)
    published = forms.BooleanField(label=_("Show my profile to the public"), required=False)

    @classmethod
    def initial_for(cls, profile: OfficerProfile | None, user: User) -> dict[str, Any]:
        if profile is None:
            return {"display_name": user.display_name, "published": True}
        return {
            "display_name": profile.display_name,
            "title": profile.title,
            "introduction": profile.introduction,
            "languages": ", ".join(profile.languages),
            "office_hours": "\n".join(
                f"{h['day']} {h['start']}-{h['end']} {h.get('place', '')}".strip()
                for h in profile.office_hours
            ),
            "contact_email": profile.contact_email,
            "contact_phone": profile.contact_phone,
            "contact_note": profile.contact_note,
            "published": profile.published,
        }


class ActivityForm(forms.Form):
    kind = forms.ChoiceField(label=_("What"), choices=ActivityKind.choices)
    occurred_on = forms.DateField(
        label=_("Date"), initial=timezone.localdate, widget=forms.DateInput(attrs={"type": "date"})
    )
    minutes = forms.IntegerField(label=_("Time spent (minutes)"), min_value=1, max_value=1440)
    people = forms.IntegerField(label=_("People contacted"), min_value=0, initial=0)
    beat = forms.ModelChoiceField(label=_("Beat"), queryset=Area.objects.none(), required=False)
    problem_ref = forms.CharField(label=_("Problem reference"), max_length=100, required=False)
    summary = forms.CharField(
        label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, community: Community, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        beat: Any = self.fields["beat"]
        beat.queryset = Area.objects.filter(community=community, kind=AreaKind.BEAT).order_by(
            "name"
        )


class AssignForm(forms.Form):
    officer = forms.ModelChoiceField(label=_("Officer"), queryset=User.objects.none())
    started_on = forms.DateField(
        label=_("From"), initial=timezone.localdate, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, community: Community, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        officer: Any = self.fields["officer"]
        officer.queryset = (
            User.objects.filter(
                memberships__community=community,
                memberships__role__in=[Role.OFFICER, Role.SUPERVISOR],
            )
            .distinct()
            .order_by("email")
        )


class AddressForm(forms.Form):
    address = forms.CharField(label=_("Your address"), max_length=300)
