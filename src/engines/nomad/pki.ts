// The PKI is shared by the engines (Nomad's mutual TLS, Kubernetes' cluster PKI): it lives in src/engines/pki.ts.
export * from '../pki.js'
