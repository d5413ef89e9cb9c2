/** The 404 page. */
import { html } from '../html.js';
import { href, layout, type PageContext } from './layout.js';

export function notFoundPage(context: PageContext, message = 'There is no such page.', back = href(context, '/')): string {
  return layout(context, {
    title: 'Not found',
    active: '',
    body: html`<h1>Not found</h1><p>${message}</p><p><a href="${back}">Back</a></p>`,
  });
}
