"""app.py turns off a private Streamlit function: this test fails when an upgrade renames or removes it.

After every script run (each poll of a live fragment too) Streamlit calls
`streamlit.runtime.scriptrunner.script_runner._clean_problem_modules`, which calls `keras.backend.clear_session()`:
that resets Keras' global state for every thread while this server's models take new weights from a background
thread. app.py replaces the function with a no-op. The patch works only while the run loop looks the function up by
that name in that module at call time; if Streamlit renames it, moves it or inlines it, the patch silently does
nothing and the clean-up comes back, so this test says so at the upgrade.
"""

import ast
import inspect

from streamlit.runtime.scriptrunner import script_runner


def test_the_clean_up_app_py_turns_off_is_still_there_and_still_called_by_name():
    assert callable(getattr(script_runner, "_clean_problem_modules", None)), (
        "streamlit.runtime.scriptrunner.script_runner._clean_problem_modules is gone: find what now clears Keras' "
        "session after each script run and turn that off in app.py instead")
    source = inspect.getsource(script_runner)
    assert "_log_if_error(_clean_problem_modules)" in source or "_clean_problem_modules()" in source, (
        "the script runner no longer calls _clean_problem_modules by its module-level name, so app.py's patch no "
        "longer takes effect")
    # Read from the file: once app.py has run in this process (AppTest runs it in-process), the attribute is the no-op.
    defined = {n.name: ast.get_source_segment(source, n) for n in ast.walk(ast.parse(source)) if isinstance(n, ast.FunctionDef)}
    assert "clear_session" in defined.get("_clean_problem_modules", ""), (
        "_clean_problem_modules no longer clears Keras' session: app.py's patch may be unnecessary now")
