// next-auth v5 as a preview configures it for authrelay: AUTH_REDIRECT_PROXY_URL (the
// relay), AUTH_MOCK_ID / AUTH_MOCK_SECRET / AUTH_MOCK_ISSUER (the one OAuth client,
// registered with the relay's callback) all come from the environment, as in
// docs/authjs.md. The secret list is the docs' rotation recipe: next-auth sets
// `config.secret` from AUTH_SECRET alone, so AUTH_SECRET_1 reaches Auth.js only through
// this array (newest first). TEST_SECRET_FROM_ENV_ONLY=1 leaves `secret` unset, to show
// what next-auth does with AUTH_SECRET_1 then.
import NextAuth from "next-auth";

const secret =
  process.env.TEST_SECRET_FROM_ENV_ONLY === "1"
    ? undefined
    : [process.env.AUTH_SECRET_1, process.env.AUTH_SECRET].filter(Boolean);

export const { handlers, auth } = NextAuth({
  secret,
  providers: [{ id: "mock", name: "Mock OIDC", type: "oidc" }],
  callbacks: {
    // The provider's subject, so the test can tell the preview exchanged the code.
    jwt({ token, profile }) {
      if (profile?.sub) token.providerSub = profile.sub;
      return token;
    },
    session({ session, token }) {
      if (session.user) session.user.sub = token.providerSub;
      return session;
    },
  },
});
