"""Property-based tests (issue 26), part 3 of 3: NeuroMask, Meaningful and Extremal Perturbation on any image
(strategies and the contract: ``property_strategies.py``)."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from property_strategies import EXAMPLES, explains_any_image_or_names_the_bad_argument, methods_of


@pytest.mark.parametrize("method", methods_of('mask learning'))
@settings(max_examples=EXAMPLES)
@given(data=st.data())
def test_explains_any_image_or_names_the_bad_argument(method, data):
    explains_any_image_or_names_the_bad_argument(method, data)
