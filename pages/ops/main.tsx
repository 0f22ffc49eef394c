/** @jsxImportSource preact */
/**
 * The operations console at `/ops` (issue #12): sources, dead letters with replay, exception
 * queues, an order's timeline, latency by step and the live events, built with Preact and
 * uPlot from npm packages and talking only to the GraphQL API with the operator's key.
 */
import { render } from 'preact';
import { pageConfig } from '../shared/config.js';
import { App } from './app.js';
import './ops.css';

const root = document.getElementById('ops');
if (!root) throw new Error('#ops is missing from the page');
render(<App config={pageConfig()} />, root);
