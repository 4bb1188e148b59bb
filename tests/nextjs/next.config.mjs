// The preview under test. `experimental.trustHostHeader` (what Next.js turns on by itself
// for builds on Vercel) is read when `next start` starts, so one build serves the test's
// setups with and without it.
export default {
  poweredByHeader: false,
  experimental: {
    trustHostHeader: process.env.TEST_NEXT_TRUST_HOST_HEADER === "1",
  },
};
