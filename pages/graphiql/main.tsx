/**
 * The playground at `GET /graphql` (browsers) and `/playground`: GraphiQL with the explorer,
 * the schema's documentation, a header editor for the API key and an Examples panel, bundled
 * from npm packages so it works offline (issue #12).
 */
import { explorerPlugin } from '@graphiql/plugin-explorer';
import '@graphiql/plugin-explorer/style.css';
import { useEditorContext, type GraphiQLPlugin } from '@graphiql/react';
import { GraphiQL } from 'graphiql';
import 'graphiql/style.css';
import { createRoot } from 'react-dom/client';
import { pageConfig, socketUrl } from '../shared/config.js';
import { EXAMPLES, headersFor, type Example } from './examples.js';
import { createFetcher } from './fetcher.js';
import './playground.css';

const config = pageConfig();
const keyOf = (example: Example) => config.demoKeys?.[example.persona] ?? null;

const WELCOME = `# Crossdock: one graph over the ERP, the warehouse systems and commerce.
#
# Put your API key in the Headers tab below ({"Authorization": "Bearer <key>"}); on the
# embedded default the demo keys are filled in. The Examples panel (left) opens an example
# operation for each kind of caller; the Docs panel documents every type and field.
query Warehouses {
  warehouses { code name }
}
`;

/** Opens an example in a new tab: its operation, variables and its persona's key. */
function ExamplesPanel() {
  const editor = useEditorContext({ nonNull: true });
  const open = (example: Example) => {
    editor.addTab();
    // addTab fills the new tab's editors with the defaults; ours replace them right after.
    setTimeout(() => {
      editor.queryEditor?.setValue(example.query);
      editor.variableEditor?.setValue(JSON.stringify(example.variables ?? {}, null, 2));
      editor.headerEditor?.setValue(headersFor(keyOf(example)));
    }, 0);
  };
  return (
    <section aria-labelledby="examples-title" className="crossdock-examples">
      <h2 id="examples-title" className="graphiql-doc-explorer-title">
        Examples
      </h2>
      <p>One operation for each kind of caller, opened in a new tab with its key.</p>
      <ul>
        {EXAMPLES.map((example) => (
          <li key={example.title}>
            <button type="button" onClick={() => open(example)} data-example={example.persona}>
              {example.title}
            </button>
            <p>{example.description}</p>
          </li>
        ))}
      </ul>
    </section>
  );
}

const examplesPlugin: GraphiQLPlugin = {
  title: 'Examples',
  icon: () => (
    <svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true">
      <path
        fill="none"
        stroke="currentColor"
        strokeWidth="1.5"
        d="M4 5h16M4 10h16M4 15h10M4 20h7"
      />
    </svg>
  ),
  content: ExamplesPanel,
};

const fetcher = createFetcher(
  config.endpoint,
  socketUrl(config.endpoint),
  config.demoKeys ? `Bearer ${config.demoKeys.admin}` : null,
);
const demoHeaders = config.demoKeys ? headersFor(config.demoKeys.admin) : headersFor(null);

const root = document.getElementById('graphiql');
if (!root) throw new Error('#graphiql is missing from the page');
createRoot(root).render(
  <GraphiQL
    fetcher={fetcher}
    plugins={[examplesPlugin, explorerPlugin()]}
    defaultEditorToolsVisibility="headers"
    defaultHeaders={demoHeaders}
    defaultTabs={[
      { query: WELCOME, headers: demoHeaders },
      ...EXAMPLES.map((example) => ({
        query: example.query,
        variables: JSON.stringify(example.variables ?? {}, null, 2),
        headers: headersFor(keyOf(example)),
      })),
    ]}
    // A key typed into the header editor stays in this browser only when asked to.
    shouldPersistHeaders={false}
  />,
);
