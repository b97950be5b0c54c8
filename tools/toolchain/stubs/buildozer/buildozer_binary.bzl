"""Offline stand-in for buildozer's buildozer_binary extension: a binary that explains itself."""

def _repo_impl(rctx):
    rctx.file("BUILD.bazel", 'exports_files(["buildozer"])\n')
    rctx.file(
        "buildozer",
        "#!/bin/sh\necho 'buildozer is not available offline' >&2\nexit 1\n",
        executable = True,
    )

_buildozer_repo = repository_rule(implementation = _repo_impl)

def _ext_impl(_mctx):
    _buildozer_repo(name = "buildozer_binary")

buildozer_binary = module_extension(implementation = _ext_impl)
