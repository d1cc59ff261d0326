import { describe, expect, it } from 'vitest';
import { toYaml } from './yaml';

describe('toYaml', () => {
  it('writes objects, lists and scalars in block style', () => {
    const obj = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', labels: { app: 'web' }, annotations: {} },
      spec: {
        replicas: 3,
        paused: false,
        containers: [
          { name: 'web', image: 'nginx:1.27', ports: [{ containerPort: 80 }], args: ['--x', 'run'] },
        ],
        empty: [],
        nothing: null,
      },
    };
    expect(toYaml(obj)).toBe(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels:
    app: web
  annotations: {}
spec:
  replicas: 3
  paused: false
  containers:
  - name: web
    image: nginx:1.27
    ports:
    - containerPort: 80
    args:
    - "--x"
    - run
  empty: []
  nothing: null
`);
  });

  it('quotes strings YAML would misread', () => {
    expect(toYaml({ a: 'true', b: '1.5', c: '', d: 'a: b', e: ' x', f: 'null', g: '0x1F', h: '-x', i: '*' })).toBe(
      'a: "true"\nb: "1.5"\nc: \'\'\nd: "a: b"\ne: " x"\nf: "null"\ng: "0x1F"\nh: "-x"\ni: "*"\n',
    );
  });

  it('writes multi-line strings as blocks', () => {
    expect(toYaml({ data: { 'config.yaml': 'a: 1\nb: 2\n' } })).toBe('data:\n  config.yaml: |\n    a: 1\n    b: 2\n');
    expect(toYaml({ s: 'x\ny' })).toBe('s: |-\n  x\n  y\n');
  });

  it('writes scalars and empty documents', () => {
    expect(toYaml(null)).toBe('null\n');
    expect(toYaml({})).toBe('{}\n');
  });
});
