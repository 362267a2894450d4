"""Staff API: a study's results, the same JSON as `manage.py analyze_results --format json`."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAdminUser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from analysis.results import AnalysisOptions
from analysis.services import study_get, study_results
from analysis.stats import ALTERNATIVES, P_METHODS

_PROPORTION = {"allow_null": True, "min_value": 0.0, "max_value": 1.0}


class ResultsSubsetSerializer(serializers.Serializer):
    n = serializers.IntegerField(help_text="Participants counted in this subset.")
    mean = serializers.FloatField(**_PROPORTION, help_text="Mean of per-participant accuracy.")
    se = serializers.FloatField(allow_null=True, help_text="Standard error: sample SD (ddof=1) / sqrt(n).")
    median = serializers.FloatField(**_PROPORTION)
    chance = serializers.FloatField(help_text='1/4: four classes, leaving out "I just can\'t tell".')
    cant_tell_share = serializers.FloatField(
        **_PROPORTION, help_text='Share of "I just can\'t tell" answers.'
    )


class ResultsConditionSerializer(serializers.Serializer):
    name = serializers.CharField()
    n = serializers.IntegerField(help_text="Participants counted in either subset.")
    incorrect = ResultsSubsetSerializer(help_text="Questions where the model was wrong.")
    correct = ResultsSubsetSerializer(help_text="Questions where the model was right.")


class ResultsBootstrapSerializer(serializers.Serializer):
    method = serializers.CharField()
    resamples = serializers.IntegerField()
    confidence = serializers.FloatField()
    seed = serializers.IntegerField()


class ResultsTestSerializer(serializers.Serializer):
    alternative = serializers.ChoiceField(choices=ALTERNATIVES)
    group = serializers.CharField(help_text="The condition U, Z and r are reported for.")
    other = serializers.CharField()
    hypothesis = serializers.CharField()
    n = serializers.DictField(child=serializers.IntegerField())
    continuity_correction = serializers.BooleanField()
    ci_method = serializers.CharField()
    u = serializers.FloatField(allow_null=True)
    z = serializers.FloatField(allow_null=True, help_text="Normal approximation, tie-corrected variance.")
    p = serializers.FloatField(allow_null=True)
    method = serializers.ChoiceField(
        choices=["exact", "normal"],
        allow_null=True,
        help_text="How p was found: exact permutation or normal.",
    )
    rank_biserial = serializers.FloatField(
        allow_null=True, help_text="2U/(n1·n2) - 1, positive when the group scores higher."
    )
    rank_biserial_ci = serializers.ListField(child=serializers.FloatField(), allow_null=True)
    mean_difference = serializers.FloatField(
        allow_null=True, help_text="Mean accuracy of the group minus that of the other condition."
    )
    bootstrap_ci = serializers.ListField(
        child=serializers.FloatField(),
        allow_null=True,
        help_text="95% bootstrap interval of mean_difference.",
    )
    bootstrap = ResultsBootstrapSerializer()
    message = serializers.CharField(allow_null=True, help_text="Why a figure is missing (null if none is).")


class ResultsTestsSerializer(serializers.Serializer):
    # Both absent when the study has fewer than two conditions.
    incorrect = ResultsTestSerializer(required=False)
    correct = ResultsTestSerializer(required=False)


class ResultsOmnibusSerializer(serializers.Serializer):
    conditions = serializers.ListField(
        child=serializers.CharField(), help_text="The conditions compared: those with participants counted."
    )
    n = serializers.DictField(child=serializers.IntegerField(), help_text="Participants per condition.")
    h = serializers.FloatField(allow_null=True, help_text="Kruskal-Wallis H, corrected for ties.")
    df = serializers.IntegerField(allow_null=True, help_text="Conditions compared - 1.")
    p = serializers.FloatField(allow_null=True, help_text="Chi-squared approximation.")
    message = serializers.CharField(allow_null=True, help_text="Why a figure is missing, or who is left out.")


class ResultsOmnibusesSerializer(serializers.Serializer):
    # Both absent when the study has fewer than two conditions.
    incorrect = ResultsOmnibusSerializer(required=False)
    correct = ResultsOmnibusSerializer(required=False)


class ResultsPairSerializer(serializers.Serializer):
    a = serializers.CharField(help_text="The condition U and r are reported for.")
    b = serializers.CharField()
    subset = serializers.CharField(help_text="incorrect (model wrong) or correct (model right).")
    n_a = serializers.IntegerField()
    n_b = serializers.IntegerField()
    u = serializers.FloatField(allow_null=True)
    z = serializers.FloatField(allow_null=True, help_text="Normal approximation, tie-corrected variance.")
    p = serializers.FloatField(allow_null=True, help_text="Two-sided.")
    p_holm = serializers.FloatField(allow_null=True, help_text="Holm-adjusted over the subset's pairs.")
    rank_biserial = serializers.FloatField(allow_null=True, help_text="Positive when a scores higher.")
    message = serializers.CharField(allow_null=True, help_text="Why a figure is missing (null if none is).")
    method = serializers.CharField(allow_null=True, help_text="How p was found: exact or normal.")


class ResultsFlowSerializer(serializers.Serializer):
    started = serializers.IntegerField()
    completed = serializers.IntegerField()
    excluded = serializers.DictField(
        child=serializers.IntegerField(), help_text="Left out by each rule, each participant at its first."
    )
    analysed = serializers.IntegerField(help_text="started minus every exclusion.")


class ResultsExclusionSerializer(serializers.Serializer):
    rule = serializers.CharField()
    label = serializers.CharField()
    applies = serializers.BooleanField()
    setting = serializers.JSONField(allow_null=True, help_text="The rule's option, as given.")
    excluded = serializers.IntegerField()
    note = serializers.CharField()


class MixedModelEffectSerializer(serializers.Serializer):
    term = serializers.CharField(help_text="subset, or subset:condition")
    subset = serializers.CharField()
    condition = serializers.CharField(
        allow_null=True, help_text="null: the reference's log-odds; else the log odds ratio against it."
    )
    estimate = serializers.FloatField()
    sd = serializers.FloatField()
    ci = serializers.ListField(child=serializers.FloatField(), help_text="95% interval.")


class MixedModelOddsRatioSerializer(serializers.Serializer):
    log_odds_ratio = serializers.FloatField()
    sd = serializers.FloatField()
    ci = serializers.ListField(child=serializers.FloatField())
    odds_ratio = serializers.FloatField()
    odds_ratio_ci = serializers.ListField(child=serializers.FloatField())


class MixedModelContrastSerializer(MixedModelOddsRatioSerializer):
    subset = serializers.CharField()


class MixedModelSerializer(serializers.Serializer):
    formula = serializers.CharField()
    method = serializers.CharField()
    group = serializers.CharField(allow_null=True, help_text="Whose odds the odds ratios put on top.")
    reference = serializers.CharField(allow_null=True)
    n = serializers.DictField(child=serializers.IntegerField())
    fixed_effects = serializers.ListField(child=MixedModelEffectSerializer())
    contrasts = serializers.ListField(
        child=MixedModelContrastSerializer(), help_text="Per subset: odds(group) / odds(reference)."
    )
    interaction = MixedModelOddsRatioSerializer(
        allow_null=True, help_text="The odds ratio where the model was wrong over the one where it was right."
    )
    random_effects = serializers.DictField(child=serializers.DictField(child=serializers.FloatField()))
    message = serializers.CharField(allow_null=True)


class ResultsDropoutSerializer(serializers.Serializer):
    started = serializers.IntegerField()
    completed = serializers.IntegerField()
    abandoned = serializers.IntegerField(help_text="Including in-progress participants gone quiet too long.")
    in_progress = serializers.IntegerField()


class ResultsQuestionSerializer(serializers.Serializer):
    question = serializers.CharField()
    model_correct = serializers.BooleanField()
    prediction = serializers.CharField()
    condition = serializers.CharField()
    n = serializers.IntegerField()
    accuracy = serializers.FloatField(**_PROPORTION)
    cant_tell_share = serializers.FloatField(**_PROPORTION)


class ItemCellSerializer(serializers.Serializer):
    n = serializers.IntegerField()
    correct = serializers.IntegerField()
    accuracy = serializers.FloatField(allow_null=True, help_text="null where the counts are impossible.")
    ci = serializers.ListField(child=serializers.FloatField(), allow_null=True, help_text="Wilson, 95%.")
    cant_tell_share = serializers.FloatField(**_PROPORTION)
    message = serializers.CharField(allow_null=True)


class ItemQuestionSerializer(serializers.Serializer):
    question = serializers.CharField()
    model_correct = serializers.BooleanField()
    prediction = serializers.CharField(allow_blank=True)
    rank = serializers.IntegerField(help_text="1: the largest difference.")
    difference = serializers.FloatField(
        allow_null=True, help_text="Accuracy in the first compared condition minus the second."
    )
    conditions = serializers.DictField(child=ItemCellSerializer())


class ItemAnalysisSerializer(serializers.Serializer):
    conditions = serializers.ListField(child=serializers.CharField(), allow_null=True)
    ci_method = serializers.CharField()
    questions = serializers.ListField(child=ItemQuestionSerializer(), help_text="Ranked by difference.")


class ResultsResponseTimeSerializer(serializers.Serializer):
    question = serializers.CharField()
    condition = serializers.CharField()
    n = serializers.IntegerField()
    median_ms = serializers.FloatField()


class ResultsOptionsSerializer(serializers.Serializer):
    conditions = serializers.ListField(child=serializers.CharField())
    # Plain strings here: the enum lives on ResultsTest.alternative (one choice set, one schema name).
    alternative_incorrect = serializers.CharField()
    alternative_correct = serializers.CharField()
    min_answers = serializers.IntegerField(allow_null=True)
    continuity = serializers.BooleanField()


class ResultsErrorSerializer(serializers.Serializer):
    message = serializers.CharField()


class StudyResultsApi(APIView):
    permission_classes = [IsAdminUser]

    class InputSerializer(serializers.Serializer):
        conditions = serializers.CharField(
            required=False,
            help_text="The pair to test (e.g. gradcam,pv); by default the study's first two conditions.",
        )
        alternative_incorrect = serializers.ChoiceField(choices=ALTERNATIVES, default="less")
        alternative_correct = serializers.ChoiceField(choices=ALTERNATIVES, default="greater")
        min_answers = serializers.IntegerField(min_value=1, required=False)
        continuity = serializers.BooleanField(default=False)
        p_method = serializers.ChoiceField(
            choices=P_METHODS, default="auto", help_text="auto: exact below 20 participants per group."
        )
        bootstrap_resamples = serializers.IntegerField(min_value=100, default=2000)
        seed = serializers.IntegerField(min_value=0, default=0)
        exclude_pilots = serializers.BooleanField(default=True)
        exclude_attention_failed = serializers.BooleanField(default=True)
        min_median_ms = serializers.IntegerField(
            min_value=1, required=False, help_text="Leave out participants with a median response time under."
        )
        mixed_model = serializers.BooleanField(default=True, help_text="Fit the logistic mixed model.")

        def validate_conditions(self, value: str) -> tuple[str, str]:
            keys = [key.strip() for key in value.split(",") if key.strip()]
            if len(keys) != 2:
                raise serializers.ValidationError("Give two condition keys separated by a comma.")
            return keys[0], keys[1]

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "StudyResults"  # other endpoints have their own nested OutputSerializer

        flow = serializers.DictField(child=ResultsFlowSerializer())
        exclusions = serializers.ListField(child=ResultsExclusionSerializer())
        conditions = serializers.DictField(child=ResultsConditionSerializer())
        tests = ResultsTestsSerializer()
        omnibus = ResultsOmnibusesSerializer()
        pairwise = serializers.ListField(child=ResultsPairSerializer())
        mixed_model = MixedModelSerializer()
        dropout = serializers.DictField(child=ResultsDropoutSerializer())
        questions = serializers.ListField(child=ResultsQuestionSerializer())
        response_times = serializers.ListField(child=ResultsResponseTimeSerializer())
        items = ItemAnalysisSerializer()
        options = ResultsOptionsSerializer()
        messages = serializers.ListField(child=serializers.CharField())

    @extend_schema(
        operation_id="study_results",
        summary=(
            "A study's results: Table 1, Mann-Whitney tests (the chosen pair, and every pair), "
            "Kruskal-Wallis, dropout, per-question accuracy"
        ),
        parameters=[InputSerializer],
        responses={
            200: OutputSerializer,
            400: ResultsErrorSerializer,
            403: ResultsErrorSerializer,
            404: ResultsErrorSerializer,
        },
    )
    def get(self, request: Request, slug: str) -> Response:
        study = study_get(slug=slug)  # an AnalysisError answers with its status (core.api)
        params = self.InputSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        analysis = study_results(study=study, options=AnalysisOptions(**params.validated_data))
        return Response(self.OutputSerializer(analysis.results).data)
