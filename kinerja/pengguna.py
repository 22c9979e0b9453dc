"""`kinerja pengguna`: console users from the command line (the first admin of a new agency,
scripted provisioning): list them, add one with a role and units."""

from __future__ import annotations

import argparse
import getpass
import sys

from sqlalchemy import select


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("pengguna", help="console users: list, add (admin, operator, auditor)")
    ops = p.add_subparsers(dest="aksi", required=True)
    ops.add_parser("daftar", help="list the console users with their role and units")
    add = ops.add_parser("tambah", help="add a console user")
    add.add_argument("username")
    add.add_argument("--nama", required=True)
    add.add_argument("--email", required=True)
    add.add_argument("--role", choices=("admin", "operator", "auditor"), default="admin")
    add.add_argument("--unit", action="append", default=[],
                     help="a unit's name (repeat for several); operators only")
    add.add_argument("--password-stdin", action="store_true",
                     help="read the password from standard input (else it is asked for; "
                     "empty: only single sign-on)")


def run(args: argparse.Namespace) -> int:
    from kinerja.runtime import Runtime
    from models.db import session_scope
    from models.repo.hr import create_hr_user
    from models.rules.enums import HrRole
    from models.rules.errors import RuleError
    from models.tables import HrUser, HrUserUnit, Unit

    rt = Runtime.from_env()
    with session_scope(rt.engine) as s:
        if args.aksi == "daftar":
            names = {u.id: u.nama for u in s.execute(select(Unit)).scalars()}
            scopes: dict[int, list[str]] = {}
            for link in s.execute(select(HrUserUnit)).scalars():
                scopes.setdefault(link.hr_user_id, []).append(names.get(link.unit_id, "?"))
            for u in s.execute(select(HrUser).order_by(HrUser.username)).scalars():
                print(f"{u.username}\t{u.role}\t{'aktif' if u.active else 'nonaktif'}\t"
                      f"{u.nama}\t{u.email}\t{', '.join(sorted(scopes.get(u.id, [])))}")
            return 0
        unit_ids = []
        for name in args.unit:
            unit_id = s.execute(select(Unit.id).where(Unit.nama == name)).scalar()
            if unit_id is None:
                print(f"Unit tidak dikenal / unknown unit: {name}", file=sys.stderr)
                return 2
            unit_ids.append(unit_id)
        password = (sys.stdin.readline().rstrip("\n") if args.password_stdin
                    else getpass.getpass("Kata sandi / password: "))
        try:
            user = create_hr_user(session=s, username=args.username, password=password,
                                  nama=args.nama, email=args.email, now=rt.clock.now(),
                                  role=HrRole(args.role), unit_ids=unit_ids)
        except RuleError as exc:
            s.rollback()
            print(exc.message("id"), file=sys.stderr)
            return 2
        print(f"{user.username} ({user.role}) ditambahkan / added")
    return 0
