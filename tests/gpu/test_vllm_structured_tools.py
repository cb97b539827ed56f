"""The structured-output and function-calling contract tests, on VLLMEngine.

The tests are the CPU contract tests unchanged; here they run against the GPU session server
through this folder's ``client`` fixture (``tests/gpu/conftest.py``).
"""

from tests.contract.test_openai_structured_tools import (  # noqa: F401
    test_bad_tool_input_is_a_400,
    test_cut_by_max_tokens_is_length,
    test_json_object_mode_is_one_object,
    test_required_and_named_calls_validate_across_seeds,
    test_schemas_hold_across_sampled_generations_next_to_free_text,
    test_streamed_tool_call_is_reassembled,
    test_structured_stream_reassembles_to_valid_json,
    test_unsupported_keyword_is_a_400_naming_it,
    test_weather_example_end_to_end,
)
