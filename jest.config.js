// ESM throughout: @kubernetes/client-node ships only ESM, so jest runs with --experimental-vm-modules.
const tsJest = [
  "ts-jest",
  { useESM: true, tsconfig: "tsconfig.json", diagnostics: { ignoreCodes: [151002] } },
];
const common = {
  extensionsToTreatAsEsm: [".ts"],
  moduleNameMapper: { "^(\\.{1,2}/.*)\\.js$": "$1" },
  transform: { "^.+\\.ts$": tsJest },
  testEnvironment: "node",
};

export default {
  testTimeout: 60000,
  // Integration tests mostly wait on servers and timers: two workers halve the wall time on 2 cores.
  maxWorkers: 2,
  projects: [
    { ...common, displayName: "unit", testMatch: ["<rootDir>/test/unit/**/*.test.ts"] },
    {
      ...common,
      displayName: "integration",
      testMatch: ["<rootDir>/test/integration/**/*.test.ts"],
      globalSetup: "<rootDir>/test/integration/global-setup.js",
      globalTeardown: "<rootDir>/test/integration/global-teardown.js",
    },
  ],
};
