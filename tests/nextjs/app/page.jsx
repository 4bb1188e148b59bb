// Who is signed in, for the browser test's screenshot and the HTTP test's check.
import { auth } from "../auth.js";

export const dynamic = "force-dynamic";

export default async function Home() {
  const session = await auth();
  if (!session?.user) {
    return (
      <main>
        <h1>Not signed in</h1>
        <p>
          <a href="/api/auth/signin">Sign in</a>
        </p>
      </main>
    );
  }
  return (
    <main>
      <h1>Signed in</h1>
      <p id="user">
        Signed in as <b>{session.user.name}</b> &lt;{session.user.email}&gt; (sub{" "}
        <code>{session.user.sub}</code>)
      </p>
    </main>
  );
}
