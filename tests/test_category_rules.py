"""Billing categories, markers and travel words: what a category name means for billing."""

from __future__ import annotations

import pytest

from calendars.categories import (
    DEFAULT_TRAVEL_WORDS,
    MARKERS,
    Billing,
    BillingCategory,
    CategoryError,
    billing_from_categories,
    is_marker,
    is_travel,
    parse_billing_category,
)

# --- parse_billing_category -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "customer", "billing_type"),
    [
        ("Acme - billable", "Acme", "billable"),
        ("Acme - non-billable", "Acme", "non-billable"),
        ("billable - Acme", "Acme", "billable"),
        ("non-billable - Acme", "Acme", "non-billable"),
        ("Admin - non-billable", "Admin", "non-billable"),
        ("Break - non-billable", "Break", "non-billable"),
        ("Acme Corp Ltd - billable", "Acme Corp Ltd", "billable"),
        ("Smith-Jones - billable", "Smith-Jones", "billable"),
        ("ACME - billable", "ACME", "billable"),
        ("acme - billable", "acme", "billable"),
        ("Online - billable", "Online", "billable"),
    ],
)
def test_a_billing_category_names_its_customer_and_type(
    name: str, customer: str, billing_type: str
) -> None:
    assert parse_billing_category(name) == BillingCategory(customer, billing_type)


@pytest.mark.parametrize(
    ("name", "billing_type"),
    [
        ("Acme - Billable", "billable"),
        ("Acme - BILLABLE", "billable"),
        ("Acme - Non-Billable", "non-billable"),
        ("Acme - NON-BILLABLE", "non-billable"),
        ("BILLABLE - Acme", "billable"),
        ("Non-billable - Acme", "non-billable"),
    ],
)
def test_the_billing_type_is_matched_ignoring_case_and_stored_lower_case(
    name: str, billing_type: str
) -> None:
    assert parse_billing_category(name).billing_type == billing_type


@pytest.mark.parametrize(
    "name",
    [
        "  Acme - billable  ",
        "\tAcme - billable\n",
        "Acme  -  billable",
        "Acme -\tbillable",
        "  billable -   Acme ",
    ],
)
def test_whitespace_around_the_name_and_its_sides_is_ignored(name: str) -> None:
    assert parse_billing_category(name) == BillingCategory("Acme", "billable")


def test_the_customer_keeps_inner_spaces_and_case() -> None:
    assert parse_billing_category("  McKinsey & Co  - billable").customer == "McKinsey & Co"


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("Acme-billable", "no ' - ' separator"),
        ("Acme -billable", "no ' - ' separator"),
        ("Acme- billable", "no ' - ' separator"),
        ("Acme billable", "no ' - ' separator"),
        ("Acme \u2013 billable", "en dash"),
        ("Acme\u2013billable", "en dash"),
        ("Acme \u2014 billable", "em dash"),
        ("Acme \u2212 billable", "minus sign"),
        ("A - B - billable", "2 times"),
        ("A - B - C - billable", "3 times"),
        (" - billable", "no customer"),
        ("- billable", "no customer"),
        ("non-billable - ", "no customer"),
        ("Acme - invalid", "Neither 'Acme' nor 'invalid'"),
        ("Acme - bill able", "is a billing type"),
        ("Acme - nonbillable", "is a billing type"),
        ("Acme - ", "empty side and no billing type"),
        ("billable - non-billable", "billing type on both sides"),
        ("Billable - billable", "billing type on both sides"),
    ],
)
def test_a_name_that_is_not_a_billing_category_is_refused_with_its_reason(
    name: str, reason: str
) -> None:
    with pytest.raises(CategoryError, match=reason):
        parse_billing_category(name)


@pytest.mark.parametrize("dash", ["\u2013", "\u2014"])
def test_a_typographic_dash_is_refused_with_advice_to_use_a_hyphen(dash: str) -> None:
    with pytest.raises(CategoryError, match=r"plain hyphen \(-\)"):
        parse_billing_category(f"Acme {dash} billable")


def test_every_kind_of_refusal_has_its_own_message() -> None:
    names = [
        "",
        "Acme-billable",
        "Acme \u2013 billable",
        "A - B - billable",
        " - billable",
        "Acme - invalid",
        "billable - non-billable",
    ]
    messages = set()
    for name in names:
        with pytest.raises(CategoryError) as refused:
            parse_billing_category(name)
        # Without the quoted name, so only the reason itself can tell two messages apart.
        messages.add(str(refused.value).replace(repr(name.strip()), "<name>"))
    assert len(messages) == len(names)


def test_a_refusal_quotes_the_name_it_refused() -> None:
    with pytest.raises(CategoryError, match="'Acme - invalid'"):
        parse_billing_category("  Acme - invalid ")


def test_a_category_error_is_a_value_error() -> None:
    assert issubclass(CategoryError, ValueError)


# --- markers ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["Online", "online", "ONLINE", "  Online  "])
def test_online_is_a_marker_whatever_its_case_and_spacing(name: str) -> None:
    assert is_marker(name)


@pytest.mark.parametrize(
    "name", ["Admin - non-billable", "Break - non-billable", "Acme - billable", "Offline", ""]
)
def test_other_names_are_not_markers(name: str) -> None:
    assert not is_marker(name)


def test_the_markers_are_online_only() -> None:
    assert frozenset({"online"}) == MARKERS


# --- billing_from_categories ------------------------------------------------------------------


def test_an_appointment_without_categories_is_personal() -> None:
    assert billing_from_categories([]) == Billing(
        customer=None, billing_type=None, is_personal=True, markers=(), problems=()
    )


@pytest.mark.parametrize(
    ("categories", "customer", "billing_type"),
    [
        (["Acme - billable"], "Acme", "billable"),
        (["Acme - billable", "Globex - non-billable"], "Acme", "billable"),
        (["Globex - non-billable", "Acme - billable"], "Globex", "non-billable"),
        (["Online", "Acme - billable"], "Acme", "billable"),
        (["Acme - billable", "Online"], "Acme", "billable"),
        (["Admin - non-billable"], "Admin", "non-billable"),
        (["Break - non-billable", "Online"], "Break", "non-billable"),
        (["non-billable - Initech"], "Initech", "non-billable"),
    ],
)
def test_the_first_billing_category_in_the_list_decides(
    categories: list[str], customer: str, billing_type: str
) -> None:
    billing = billing_from_categories(categories)
    assert (billing.customer, billing.billing_type, billing.is_personal) == (
        customer,
        billing_type,
        False,
    )


def test_a_later_billing_category_is_not_reported_as_a_problem() -> None:
    assert billing_from_categories(["Acme - billable", "Globex - billable"]).problems == ()


def test_markers_are_listed_lower_case_in_order_once() -> None:
    billing = billing_from_categories(["ONLINE", "Acme - billable", "online"])
    assert billing.markers == ("online",)


def test_an_invalid_name_before_the_billing_category_does_not_hide_it() -> None:
    billing = billing_from_categories(["Acme-billable", "Globex - billable"])
    assert (billing.customer, billing.billing_type) == ("Globex", "billable")


def test_an_invalid_name_before_the_billing_category_is_reported() -> None:
    billing = billing_from_categories(["Acme-billable", "Globex - billable"])
    assert len(billing.problems) == 1
    assert "'Acme-billable' has no ' - ' separator" in billing.problems[0]


def test_an_invalid_name_after_the_billing_category_is_reported_too() -> None:
    billing = billing_from_categories(["Globex - billable", "Acme \u2013 billable"])
    assert len(billing.problems) == 1
    assert "en dash" in billing.problems[0]


def test_categories_without_a_billing_category_leave_no_customer_and_are_not_personal() -> None:
    billing = billing_from_categories(["Acme-billable", "Online"])
    assert (billing.customer, billing.billing_type, billing.is_personal) == (None, None, False)


def test_categories_without_a_billing_category_report_each_name_with_its_reason() -> None:
    billing = billing_from_categories(["Acme-billable", "Online", "Acme - invalid", "Red"])
    assert len(billing.problems) == 3
    assert "'Acme-billable'" in billing.problems[0]
    assert "'Acme - invalid'" in billing.problems[1]
    assert "'Red'" in billing.problems[2]


def test_only_markers_are_reported_as_no_billing_category() -> None:
    billing = billing_from_categories(["Online"])
    assert billing == Billing(
        customer=None,
        billing_type=None,
        is_personal=False,
        markers=("online",),
        problems=(billing.problems[0],),
    )
    assert billing.problems[0].startswith("No billing category")


def test_a_blank_category_name_is_a_problem_not_a_personal_appointment() -> None:
    billing = billing_from_categories([""])
    assert billing.is_personal is False
    assert "empty" in billing.problems[0]


def test_a_tuple_of_categories_reads_like_a_list() -> None:
    assert billing_from_categories(("Online", "Acme - billable")).customer == "Acme"


# --- travel -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "subject",
    [
        "Drive to Acme",
        "Flight LHR-JFK",
        "Acme trip",
        "Travel",
        "travel to client",
        "TRAVELLING to Leeds",
        "Traveling home",
        "Driving back",
        "Commute",
        "Commuting",
        "Transit via Frankfurt",
        "Journey home",
        "Airport pick-up",
        "Train to Manchester",
        "Taxi to the office",
        "To the station",
        "Fly to Berlin",
        "Flying home",
        "Trip: Acme (day 2)",
        "Site visit / travel",
        "Acme,travel",
    ],
)
def test_a_subject_with_a_travel_word_is_travel(subject: str) -> None:
    assert is_travel(subject)


@pytest.mark.parametrize(
    "subject",
    [
        "Workstation setup",
        "Stationery order",
        "Travelogue review",
        "Tripod purchase",
        "Strip mall lease",
        "Trainee review",
        "Butterfly garden",
        "Drivers' meeting",
        "Design review",
        "",
        None,
    ],
)
def test_a_subject_without_a_whole_travel_word_is_not_travel(subject: str | None) -> None:
    assert not is_travel(subject)


def test_the_default_travel_words_cover_the_issues_list() -> None:
    expected = {"travel", "drive", "driving", "flight", "commute", "transit", "journey", "trip"}
    assert expected | {"airport", "station"} <= DEFAULT_TRAVEL_WORDS


def test_travel_words_are_configurable() -> None:
    assert is_travel("Cycle to Acme", words=["cycle"])


def test_configured_travel_words_replace_the_defaults() -> None:
    assert not is_travel("Drive to Acme", words=["cycle"])


@pytest.mark.parametrize("subject", ["Car park at Acme", "CAR   PARK", "car\tpark"])
def test_a_multi_word_travel_entry_matches_across_any_whitespace(subject: str) -> None:
    assert is_travel(subject, words=["car park"])


def test_a_multi_word_travel_entry_needs_all_its_words() -> None:
    assert not is_travel("Car review", words=["car park"])


def test_configured_travel_words_ignore_case() -> None:
    assert is_travel("ferry to Calais", words=["FERRY"])


def test_a_travel_word_with_regex_characters_is_matched_literally() -> None:
    assert not is_travel("Drive", words=["d.ive"])


def test_no_travel_words_means_nothing_is_travel() -> None:
    assert not is_travel("Drive to Acme", words=[])
