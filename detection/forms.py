"""Forms of the detection app's pages."""

from django import forms

from detection.models import StayDownPolicy


class StayDownPolicyForm(forms.ModelForm):
    class Meta:
        model = StayDownPolicy
        fields = ("auto_file", "auto_file_min_score", "list_weak")
        widgets = {"auto_file_min_score": forms.NumberInput(attrs={"step": "0.01", "min": "0.5", "max": "1"})}
