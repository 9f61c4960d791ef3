"""The request plan of each paging kind, and when it stops."""

import pytest

from xero_pipeline.registry import BY_TABLE
from xero_pipeline.xero.paging import Pager, minimum_calls


def test_paged_endpoints_ask_for_1000_rows_in_a_stable_order():
    pager = Pager(BY_TABLE["invoices"])
    p = pager.params()
    assert p["page"] == "1" and p["pageSize"] == "1000"
    assert p["order"] == "InvoiceID ASC" and p["unitdp"] == "4" and p["includeArchived"] == "true"
    pager.advance([{}] * 1000, {"page": 1, "pageSize": 1000, "pageCount": 2, "itemCount": 1500})
    assert not pager.done and pager.params()["page"] == "2"
    pager.advance([{}] * 500, {"page": 2, "pageSize": 1000, "pageCount": 2, "itemCount": 1500})
    assert pager.done


def test_a_full_last_page_does_not_cost_an_extra_call_when_pagecount_says_so():
    pager = Pager(BY_TABLE["contacts"])
    pager.advance([{}] * 1000, {"page": 1, "pageSize": 1000, "pageCount": 1, "itemCount": 1000})
    assert pager.done


def test_page_only_endpoints_have_no_page_size():
    pager = Pager(BY_TABLE["quotes"])
    assert "pageSize" not in pager.params()
    pager.advance([{}] * 100, None)
    assert not pager.done
    pager.advance([{}] * 3, None)
    assert pager.done


def test_journals_advance_by_the_last_journal_number():
    pager = Pager(BY_TABLE["journals"], after_journal=250)
    assert pager.params() == {"offset": "250"}
    pager.advance([{"JournalNumber": n} for n in range(251, 351)], None)
    assert pager.params() == {"offset": "350"}
    pager.advance([{"JournalNumber": 351}], None)
    assert pager.done


def test_unpaged_endpoints_take_one_call():
    pager = Pager(BY_TABLE["accounts"])
    assert "page" not in pager.params()
    pager.advance([{}] * 5000, None)
    assert pager.done


def test_page_size_is_bounded_by_xero():
    with pytest.raises(ValueError, match="between 1 and 1000"):
        Pager(BY_TABLE["invoices"], page_size=5000)


def test_minimum_calls():
    assert minimum_calls(BY_TABLE["invoices"], 2500) == 3
    assert minimum_calls(BY_TABLE["invoices"], 2000) == 2
    assert minimum_calls(BY_TABLE["journals"], 250) == 3
    assert minimum_calls(BY_TABLE["accounts"], 80) == 1
