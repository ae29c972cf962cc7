"""The HTTP API checked from outside, as a storefront developer's tools see it.

Starts `mercato demo` (two seeded shops) on a free loopback port, then:

1. validates GET /openapi.json with a real OpenAPI 3.1 validator;
2. fuzzes every operation from the document with schemathesis, once per
   audience with that audience's key (store, admin, platform, then the
   unauthenticated hooks and system routes): no answer may be a 5xx, and
   every answer must conform to the document (status code, content type,
   body schema);
3. generates a typed Python client from the document (openapi-python-client)
   and buys with it: browse -> cart -> address -> shipping -> complete.

Usage: check.py MERCATO_BINARY PLUGIN_DIR. Ends with one line
"N passed, M failed"; exits non-zero on any failure.
"""

import json
import re
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path

BIN = Path(sys.executable).parent
MAX_EXAMPLES = "12"
CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"


def start_demo(mercato: str, plugin_dir: str, data_dir: str):
    proc = subprocess.Popen(
        [mercato, "demo", "--listen", "127.0.0.1:0", "--data-dir", data_dir, "--plugin-dir", plugin_dir],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    printed = []
    for line in proc.stdout:
        printed.append(line)
        m = re.search(r"listening on (http://\S+)", line)
        if m:
            text = "".join(printed)
            keys = {
                "operator": re.search(r"operator key\s+(op_\w+)", text).group(1),
                "secret": re.findall(r"secret key\s+(sk_\w+)", text),
                "publishable": re.findall(r"publishable key\s+(pk_\w+)", text),
            }
            return proc, m.group(1), keys
    raise SystemExit("mercato demo exited before it listened:\n" + "".join(printed))


def validate(base: str, out: Path) -> dict:
    from openapi_spec_validator import validate as validate_spec

    doc = json.loads(urllib.request.urlopen(f"{base}/openapi.json").read())
    validate_spec(doc)
    assert doc["openapi"].startswith("3.1"), doc["openapi"]
    out.write_text(json.dumps(doc))
    return doc


def fuzz(doc_path: Path, base: str, name: str, paths: str, key: str | None, exclude: list[str], work: Path) -> bool:
    cmd = [str(BIN / "schemathesis"), "run", str(doc_path), "--url", base, "--include-path-regex", paths,
           "--checks", CHECKS, "-n", MAX_EXAMPLES, "--no-color", "--seed", "20261206",
           "--suppress-health-check", "all", "--request-timeout", "30"]
    for path in exclude:
        cmd += ["--exclude-path", path]
    if key:
        cmd += ["-H", f"Authorization: Bearer {key}"]
    # Its example database and reports stay in the scratch directory.
    run = subprocess.run(cmd, capture_output=True, text=True, cwd=work)
    tail = "\n".join(run.stdout.splitlines()[-12:])
    print(f"--- fuzz {name}: exit {run.returncode}\n{tail}", flush=True)
    if run.returncode != 0:
        print(run.stdout, flush=True)
    return run.returncode == 0


def generated_client_buys(doc_path: Path, base: str, pk: str, work: Path) -> bool:
    out = work / "client"
    gen = subprocess.run([str(BIN / "openapi-python-client"), "generate", "--path", str(doc_path),
                          "--output-path", str(out), "--meta", "none"], capture_output=True, text=True)
    if gen.returncode != 0:
        print(gen.stdout, gen.stderr)
        return False
    # The package is importable under a name of our choosing.
    (work / "mercato_client").symlink_to(out)
    sys.path.insert(0, str(work))
    from mercato_client import AuthenticatedClient
    from mercato_client.api.carts import complete, create_cart, select_shipping, shipping_options, update_cart
    from mercato_client.api.storefront import store_get_product, store_list_products
    from mercato_client.models import CartUpdate, CompleteRequest, NewCart, PlacedOrder, ShippingChoice

    client = AuthenticatedClient(base_url=base, token=pk)
    products = store_list_products.sync(client=client, q="tee", limit=5)
    product = store_get_product.sync(id_or_handle=products.data[0].handle, client=client)
    variant = product.variants[0]
    cart = create_cart.sync(client=client, body=NewCart.from_dict(
        {"email": "ada@example.com", "lines": [{"variant_id": variant.id, "quantity": 1}]}))
    address = {"name": "Ada Lovelace", "line1": "1 Market St", "city": "San Francisco", "region": "CA",
               "postal_code": "94105", "country": "US"}
    update_cart.sync(id=cart.id, client=client, body=CartUpdate.from_dict({"shipping_address": address}))
    options = shipping_options.sync(id=cart.id, client=client)
    cart = select_shipping.sync(id=cart.id, client=client,
                                body=ShippingChoice.from_dict({"code": options.options[0].code}))
    payment = CompleteRequest.from_dict({"payment": {"provider": "test-gateway", "token": "tok_visa"}})
    order = complete.sync(id=cart.id, client=client, body=payment, idempotency_key=f"client-{cart.id}")
    ok = isinstance(order, PlacedOrder) and order.status == "paid" and order.total.amount == cart.total.amount
    print(f"--- generated client: order {getattr(order, 'number', order)} "
          f"{getattr(order, 'status', '')}, total {cart.total.amount} {cart.total.currency}: "
          f"{'ok' if ok else 'FAILED'}", flush=True)
    return ok


def main() -> int:
    mercato, plugin_dir = sys.argv[1], sys.argv[2]
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        proc, base, keys = start_demo(mercato, plugin_dir, str(work / "data"))
        try:
            doc_path = work / "openapi.json"
            validate(base, doc_path)
            results["openapi 3.1 document is valid"] = True
            print("--- openapi: valid OpenAPI 3.1", flush=True)
            results["generated client buys"] = generated_client_buys(doc_path, base, keys["publishable"][0], work)
            # The platform run last: it may rotate the shops' keys. The admin
            # run uses the second shop, whose orders the store run leaves alone.
            audiences = [
                ("store", "^/v1/store/", keys["publishable"][0], []),
                ("admin", "^/v1/admin/", keys["secret"][1], []),
                ("hooks and system", "^/(v1/hooks/|healthz|readyz|metrics|openapi.json)", None, []),
                ("platform", "^/v1/platform/", keys["operator"], ["/v1/platform/plugins"]),
            ]
            for name, paths, key, exclude in audiences:
                results[f"fuzz {name}"] = fuzz(doc_path, base, name, paths, key, exclude, work)
            alive = urllib.request.urlopen(f"{base}/healthz").status == 200
            results["host still serving"] = alive
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    passed = sum(results.values())
    failed = len(results) - passed
    for name, ok in results.items():
        print(f"{'ok    ' if ok else 'FAILED'} {name}")
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
