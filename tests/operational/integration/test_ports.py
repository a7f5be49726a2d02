"""Both stores implement every port of service_layer/ports.py, method by method, with the
same parameters (what the use cases call them with); the service tests then check that
they answer alike (tests/operational/integration/test_services.py)."""

from __future__ import annotations

import inspect

import pytest

from operational.adapters import batch, repository
from operational.adapters.unit_of_work import SqlAlchemyUnitOfWork
from operational.domain.rules import Consortium
from operational.service_layer import ports

# port → (the database's implementation, the batch's)
IMPLEMENTATIONS = {
    ports.ReferenceRepository: (repository.ReferenceRepository, batch._Reference),
    ports.TitleRepository: (repository.TitleRepository, batch._Titles),
    ports.ItemRepository: (repository.ItemRepository, batch._Items),
    ports.PatronRepository: (repository.PatronRepository, batch._Patrons),
    ports.LoanRepository: (repository.LoanRepository, batch._Loans),
    ports.HoldRepository: (repository.HoldRepository, batch._Holds),
    ports.TransportRepository: (repository.TransportRepository, batch._Transports),
    ports.UnitOfWork: (SqlAlchemyUnitOfWork, batch.BatchUnitOfWork),
}


def _methods(cls: type) -> dict[str, inspect.Signature]:
    return {
        name: inspect.signature(member)
        for name, member in inspect.getmembers(cls, inspect.isfunction)
        if not name.startswith("_") or name in ("__enter__", "__exit__")
    }


def _parameters(signature: inspect.Signature) -> list[tuple[str, inspect._ParameterKind]]:
    return [(p.name, p.kind) for p in signature.parameters.values()]


@pytest.mark.parametrize("port", IMPLEMENTATIONS, ids=lambda port: port.__name__)
def test_each_store_has_every_method_of_the_port(port):
    wanted = _methods(port)
    assert wanted, "a port with no methods checks nothing"
    for implementation in IMPLEMENTATIONS[port]:
        for name, signature in wanted.items():
            member = getattr(implementation, name, None)
            assert callable(member), f"{implementation.__name__} has no {name}()"
            assert _parameters(inspect.signature(member)) == _parameters(signature), (
                f"{implementation.__name__}.{name} takes other parameters than the port's"
            )


def test_each_unit_of_work_has_the_repositories_and_consortium_of_the_port(sqlite_engine):
    names = [*inspect.get_annotations(ports.UnitOfWork), "consortium"]
    assert "loans" in names
    for uow in (
        SqlAlchemyUnitOfWork(sqlite_engine),
        batch.BatchUnitOfWork(batch.MemoryState(sqlite_engine)),
    ):
        with uow:
            missing = [name for name in names if not hasattr(uow, name)]
            assert missing == [], f"{type(uow).__name__} has no {missing}"
            assert isinstance(uow.consortium, Consortium)
