import { describe, expect, it } from '@jest/globals';
import { devIssuerSettings } from '../../../src/dev-issuer/dev-issuer.js';

const ROOT = '/srv/app';

describe('devIssuerSettings', () => {
  it.each<[string, NodeJS.ProcessEnv, { keyFile: string; issuer: string; audience: string }]>([
    [
      'defaults',
      {},
      { keyFile: '/srv/app/data/dev-issuer-key.json', issuer: 'http://127.0.0.1:4000/dev-issuer', audience: 'http://127.0.0.1:4000/graphql' },
    ],
    ['PORT', { PORT: '8080' }, { keyFile: '/srv/app/data/dev-issuer-key.json', issuer: 'http://127.0.0.1:8080/dev-issuer', audience: 'http://127.0.0.1:8080/graphql' }],
    [
      'PUBLIC_URL wins over PORT, trailing slash removed',
      { PORT: '8080', PUBLIC_URL: 'https://api.example/' },
      { keyFile: '/srv/app/data/dev-issuer-key.json', issuer: 'https://api.example/dev-issuer', audience: 'https://api.example/graphql' },
    ],
    [
      'OAUTH_AUDIENCE',
      { OAUTH_AUDIENCE: 'urn:orders-api' },
      { keyFile: '/srv/app/data/dev-issuer-key.json', issuer: 'http://127.0.0.1:4000/dev-issuer', audience: 'urn:orders-api' },
    ],
    [
      'relative DEV_ISSUER_KEY_FILE resolves against the project root',
      { DEV_ISSUER_KEY_FILE: 'secrets/key.json' },
      { keyFile: '/srv/app/secrets/key.json', issuer: 'http://127.0.0.1:4000/dev-issuer', audience: 'http://127.0.0.1:4000/graphql' },
    ],
    [
      'absolute DEV_ISSUER_KEY_FILE',
      { DEV_ISSUER_KEY_FILE: '/tmp/k.json' },
      { keyFile: '/tmp/k.json', issuer: 'http://127.0.0.1:4000/dev-issuer', audience: 'http://127.0.0.1:4000/graphql' },
    ],
    [
      'DATA_DIR and HOST, as the server config reads them',
      { DATA_DIR: 'var', HOST: 'localhost', PORT: '5000' },
      { keyFile: '/srv/app/var/dev-issuer-key.json', issuer: 'http://localhost:5000/dev-issuer', audience: 'http://localhost:5000/graphql' },
    ],
    [
      'a wildcard HOST is reached through 127.0.0.1',
      { HOST: '0.0.0.0' },
      { keyFile: '/srv/app/data/dev-issuer-key.json', issuer: 'http://127.0.0.1:4000/dev-issuer', audience: 'http://127.0.0.1:4000/graphql' },
    ],
    [
      'DEV_ISSUER_KEY_FILE wins over DATA_DIR',
      { DATA_DIR: 'var', DEV_ISSUER_KEY_FILE: 'k.json' },
      { keyFile: '/srv/app/k.json', issuer: 'http://127.0.0.1:4000/dev-issuer', audience: 'http://127.0.0.1:4000/graphql' },
    ],
    [
      'empty variables count as unset',
      { PORT: '', PUBLIC_URL: '', OAUTH_AUDIENCE: '', DEV_ISSUER_KEY_FILE: '', DATA_DIR: '', HOST: '' },
      { keyFile: '/srv/app/data/dev-issuer-key.json', issuer: 'http://127.0.0.1:4000/dev-issuer', audience: 'http://127.0.0.1:4000/graphql' },
    ],
  ])('%s', (_name, env, expected) => {
    expect(devIssuerSettings(env, ROOT)).toEqual(expected);
  });
});
