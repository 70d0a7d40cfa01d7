"""Staff forms of the survey builder. The response page reads answers directly so that
the service, not a form field, says what is wrong with each (naming the question)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from beacon.core.models import AreaKind
from beacon.surveys.models import QuestionKind, SurveyKind


class SurveyForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=SurveyKind.choices,
        help_text=_("A community-trust survey comes with the ready set of questions."),
    )
    description = forms.CharField(
        label=_("Introduction"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    anonymous = forms.BooleanField(label=_("Anonymous responses"), required=False, initial=True)
    area_kind = forms.ChoiceField(
        label=_("Respondents pick their"),
        choices=[("", _("(not asked)")), *AreaKind.choices],
        required=False,
        initial=AreaKind.NEIGHBOURHOOD,
    )
    asks_demographics = forms.BooleanField(
        label=_("Ask age band and gender (for weighting)"), required=False, initial=True
    )
    series = forms.SlugField(
        label=_("Series"), required=False, help_text=_("Waves of one series form a trend.")
    )
    wave_label = forms.CharField(label=_("Wave"), max_length=60, required=False)
    opens_on = forms.DateField(
        label=_("Opens"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    closes_on = forms.DateField(
        label=_("Closes"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )


class QuestionForm(forms.Form):
    prompt = forms.CharField(label=_("Question"), max_length=400)
    kind = forms.ChoiceField(label=_("Kind"), choices=QuestionKind.choices)
    required = forms.BooleanField(label=_("Answer required"), required=False)
    choices = forms.CharField(
        label=_("Choices"),
        required=False,
        help_text=_("Single and multiple choice: one choice per line."),
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    scale_min = forms.IntegerField(
        label=_("Lowest value"), required=False, help_text=_("Likert: 1 unless you say otherwise.")
    )
    scale_max = forms.IntegerField(
        label=_("Highest value"), required=False, help_text=_("Likert: 5 unless you say otherwise.")
    )
    low_label = forms.CharField(label=_("Label of the lowest point"), required=False)
    high_label = forms.CharField(label=_("Label of the highest point"), required=False)


class InviteForm(forms.Form):
    message = forms.CharField(
        label=_("Message to residents"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
