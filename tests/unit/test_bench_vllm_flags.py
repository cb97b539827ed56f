"""The benchmarks start vLLM's own server with the engine arguments VLLMEngine builds, as flags.

Those flags must parse with vLLM's own argument parser back into the same engine arguments
(a dict argument passed as Python's ``str()`` once broke every server comparison).
"""

from __future__ import annotations

import pytest

from benchmarks.gpu import common
from tokenfactory.engine.vllm import params as vllm_params

pytest.importorskip("vllm.entrypoints.launchers.cli_args")


def _parsed(flags: list[str]):
    from vllm.engine.arg_utils import AsyncEngineArgs
    from vllm.entrypoints.launchers.cli_args import make_arg_parser
    from vllm.utils.argparse_utils import FlexibleArgumentParser

    namespace = make_arg_parser(FlexibleArgumentParser()).parse_args(flags)
    return AsyncEngineArgs.from_cli_args(namespace)


@pytest.mark.parametrize("enable_lora", [True, False])
def test_engine_args_survive_the_trip_through_server_flags(tmp_path, enable_lora):
    settings = vllm_params.EngineSettings(enable_lora=enable_lora)
    args = vllm_params.chat_engine_args("org/model", str(tmp_path), settings)
    parsed = _parsed(common.cli_flags(args))
    for key, value in args.items():
        got = getattr(parsed, key)
        if isinstance(value, dict):
            for field, expected in value.items():
                assert getattr(got, field) == expected, (key, field)
        elif key == "served_model_name":
            assert list(got) == [value]
        else:
            assert got == value, key
    assert bool(parsed.enable_lora) is enable_lora
