"""Story entity lists: name parts fold into the full name, bare common nouns go."""

from __future__ import annotations

from newsloom.stories.entitylist import fold_name_parts, is_common_noun, main_entities


def test_name_parts_fold_into_the_full_name() -> None:
    tally = {"Kim": 3, "Jong": 2, "Kim Jong Un": 2, "Un": 1}
    assert main_entities(tally, 3, 8) == ("Kim Jong Un",)
    assert fold_name_parts(tally) == {"Kim Jong Un": 3}


def test_bare_common_nouns_are_dropped_but_names_with_them_stay() -> None:
    tally = {"Council": 4, "Security Council": 3, "President": 3, "Supreme Leader": 2, "Monday": 2, "Pyongyang": 2}
    assert main_entities(tally, 4, 8) == ("Security Council", "Pyongyang")
    assert is_common_noun("Council") and is_common_noun("Supreme Leader") and not is_common_noun("Shoigu")


def test_run_together_names_split_and_adjectives_and_acronyms_fold() -> None:
    tally = {
        "North Korea Kim Jong Un": 1, "North Korea": 2, "Kim Jong Un": 1, "Kim": 2, "North Korean": 2,
        "Korean Central News Agency": 1, "KCNA": 2, "Russian": 2, "Russia": 1,
    }  # fmt: skip
    assert main_entities(tally, 2, 8) == ("Korean Central News Agency", "Kim Jong Un", "North Korea", "Russia")


def test_a_part_used_much_more_on_its_own_stays() -> None:
    tally = {"Trump": 9, "Trump Tower": 2}
    assert main_entities(tally, 9, 8) == ("Trump", "Trump Tower")
    assert main_entities({"Trump": 6, "Trump Tower": 2}, 9, 8) == ("Trump Tower",)


def test_names_need_two_articles_in_a_larger_story_and_the_limit_holds() -> None:
    tally = {"Gabriel Boric": 3, "Valparaiso": 3, "Aside Person": 1, "Chile": 2}
    assert main_entities(tally, 3, 2) == ("Gabriel Boric", "Valparaiso")
    assert "Aside Person" not in main_entities(tally, 3, 8)
