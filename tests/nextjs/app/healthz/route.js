// For the test's start-up wait: answers 200 once `next start` serves routes.
export const dynamic = "force-dynamic";

export function GET() {
  return new Response("ok");
}
