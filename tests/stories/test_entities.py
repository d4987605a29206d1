from __future__ import annotations

from newsloom.stories.entities import Entity, index_entities


def _by_name(entities: tuple[Entity, ...], name: str) -> Entity:
    for entity in entities:
        if entity.name == name or name in entity.aliases:
            return entity
    raise AssertionError(f"{name} not found in {[e.name for e in entities]}")


def test_transliteration_variants_and_surname_merge_across_articles() -> None:
    a = ["Defence minister Sergei Lavrentyev met the envoy.", "Lavrentyev said the talks went well."]
    b = ["The envoy was received by Sergey Lavrentyev on Monday."]
    index = index_entities([a, b])
    entity = _by_name(index.entities, "Sergei Lavrentyev")
    assert {"Sergey Lavrentyev", "Lavrentyev"} <= {entity.name, *entity.aliases}
    assert entity.type == "person"
    assert entity.articles == (0, 1)


def test_acronym_in_parentheses_and_bare_acronym_merge() -> None:
    a = ["The World Health Organization (WHO) declared an emergency."]
    b = ["A WHO spokesman said more cases were expected."]
    entity = _by_name(index_entities([a, b]).entities, "World Health Organization")
    assert "WHO" in entity.aliases
    assert entity.articles == (0, 1)
    assert entity.type == "organisation"


def test_acronym_matching_initials_without_parentheses() -> None:
    a = ["The International Atomic Energy Agency inspected the plant."]
    b = ["IAEA inspectors found no damage."]
    entity = _by_name(index_entities([a, b]).entities, "International Atomic Energy Agency")
    assert "IAEA" in entity.aliases


def test_titles_are_cut_and_dotted_acronyms_normalised() -> None:
    a = ["U.S. President Joe Biden spoke in Warsaw.", "Biden said the US would help."]
    index = index_entities([a])
    biden = _by_name(index.entities, "Joe Biden")
    assert biden.name == "Joe Biden" and "Biden" in biden.aliases and biden.type == "person"
    us = _by_name(index.entities, "US")
    assert us.name == "US"
    assert not any("President" in e.name for e in index.entities)


def test_sentence_start_words_and_demonyms_are_not_entities() -> None:
    a = ["Analysts expect Russian troops to move.", "However, Kyiv disagrees with the Russian view."]
    names = {e.name for e in index_entities([a]).entities}
    assert "Analysts" not in names and "However" not in names and "Russian" not in names
    assert "Kyiv" in names


def test_run_of_two_names_is_split_by_names_seen_alone() -> None:
    a = ["Leader of South Sudan Salva Kiir met donors.", "Salva Kiir thanked them.", "South Sudan needs aid."]
    names = {e.name for e in index_entities([a]).entities}
    assert {"South Sudan", "Salva Kiir"} <= names
    assert "South Sudan Salva Kiir" not in names


def test_ambiguous_surname_is_not_merged() -> None:
    a = ["Ed Miliband and David Miliband met.", "Miliband said nothing."]
    entities = index_entities([a]).entities
    assert all("Miliband" not in e.aliases for e in entities)


def test_sentence_entities_point_at_the_mentions() -> None:
    a = ["Angela Merkel met Emmanuel Macron in Paris."]
    index = index_entities([a])
    spans = index.sentence_entities[0][0]
    surfaces = {a[0][s:e] for _, s, e in spans}
    assert {"Angela Merkel", "Emmanuel Macron", "Paris"} <= surfaces


def test_middle_initial_variant_merges() -> None:
    a = ["President Trump criticised John F. Kerry on Monday.", "John Kerry did not reply."]
    entity = _by_name(index_entities([a]).entities, "John Kerry")
    assert {entity.name, *entity.aliases} == {"John F. Kerry", "John Kerry"}
