// esbuild bundles the stylesheet next to the script; TypeScript only needs to know the import exists.
declare module '*.css';
