import { defineConfig } from 'vite';

// The page imports `wasmqtt` like any user would: through the package's
// `exports` (www/node_modules/wasmqtt links to the repository root).
export default defineConfig({
  // Relative asset URLs: dist/ works from any path on any static server.
  base: './',
  build: {
    target: 'es2022',
    outDir: 'dist',
    emptyOutDir: true,
  },
  server: {
    // `vite` dev mode reads js/ and pkg/ from the package one level up.
    fs: { allow: ['..'] },
  },
});
