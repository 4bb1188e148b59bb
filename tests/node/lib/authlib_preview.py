"""A preview whose sign-in is real Authlib (Flask client), unchanged but for its
configuration: its authorize_url is the relay's authorize route, with return_to naming
the preview's own callback, and its redirect_uri is the relay's callback. It holds no
relay secret and runs no relay code. Started by tests/node/oauth-library.test.mjs.

Environment: HOST, PORT, RELAY_URL (the relay's base URL), PROVIDER_ID, ISSUER (the
mock provider's), CLIENT_ID, CLIENT_SECRET.

  GET /auth/<provider>           authorize_redirect: 302 to the relay's authorize route
  GET /auth/<provider>/callback  authorize_access_token: checks its own state, exchanges
                                 the code (PKCE, redirect_uri = the relay's callback),
                                 then 303 /me
  GET /me                        <p id="me">sub</p> once signed in, 401 before
"""

import base64
import json
import os
import secrets
from urllib.parse import quote

from authlib.integrations.flask_client import OAuth
from flask import Flask, redirect, session

HOST = os.environ["HOST"]
PORT = int(os.environ["PORT"])
RELAY = os.environ["RELAY_URL"]
PROVIDER = os.environ["PROVIDER_ID"]
ISSUER = os.environ["ISSUER"]
ORIGIN = f"http://{HOST}:{PORT}"
CALLBACK_PATH = f"/auth/{PROVIDER}/callback"

app = Flask(__name__)
app.secret_key = secrets.token_hex(32)
oauth = OAuth(app)
oauth.register(
    PROVIDER,
    client_id=os.environ["CLIENT_ID"],
    client_secret=os.environ["CLIENT_SECRET"],
    authorize_url=f"{RELAY}/authorize/{PROVIDER}?return_to="
    + quote(ORIGIN + CALLBACK_PATH, safe=""),
    access_token_url=f"{ISSUER}/token",
    client_kwargs={"scope": "email", "code_challenge_method": "S256"},
)
client = oauth.create_client(PROVIDER)


@app.get("/")
def index():
    return "authlib preview\n"


@app.get(f"/auth/{PROVIDER}")
def login():
    return client.authorize_redirect(f"{RELAY}/callback/{PROVIDER}")


@app.get(CALLBACK_PATH)
def callback():
    token = client.authorize_access_token()
    payload = token["access_token"].split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    session["sub"] = claims.get("sub")
    return redirect("/me", code=303)


@app.get("/me")
def me():
    if "sub" not in session:
        return {"user": None}, 401
    return f'<!doctype html><title>me</title><p id="me">{session["sub"]}</p>'


if __name__ == "__main__":
    app.run(host=HOST, port=PORT)
