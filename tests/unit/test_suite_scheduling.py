"""tests/conftest.py's scheduling of `make test`: each file on one pytest worker, and the files that start the pytest
process's own Ray all on one."""


def test_make_test_sends_each_file_to_one_worker_and_the_files_that_start_ray_together(pytestconfig, monkeypatch):
    from tests import conftest

    monkeypatch.setattr(pytestconfig.option, "dist", "loadfile")
    monkeypatch.setattr(pytestconfig.option, "tx", ["popen"] * 3)
    sched = conftest.pytest_xdist_make_scheduler(pytestconfig, None)
    scopes = {f"tests/{name}": sched._split_scope(f"tests/{name}::test_x") for name in conftest.OWN_RAY}
    assert set(scopes.values()) == {"own-ray"} and len(scopes) == 3
    for other in ("tests/workers/test_cluster.py", "tests/browser/test_home_flow.py", "tests/unit/test_text.py"):
        assert sched._split_scope(f"{other}::test_a[1]") == sched._split_scope(f"{other}::test_b") == other
    monkeypatch.setattr(pytestconfig.option, "dist", "worksteal")
    assert conftest.pytest_xdist_make_scheduler(pytestconfig, None) is None  # make check: xdist's own
