from jinja2.runtime import LoopContext, Macro, Markup, Namespace, TemplateNotFound, TemplateReference, TemplateRuntimeError, Undefined, escape, identity, internalcode, markup_join, missing, str_join
name = 'web/accessibility.html'

def root(context, missing=missing):
    resolve = context.resolve_or_missing
    undefined = environment.undefined
    concat = environment.concat
    cond_expr_undefined = Undefined
    if 0: yield None
    parent_template = None
    l_0_page_title = missing
    pass
    parent_template = environment.get_template('web/base.html', 'web/accessibility.html')
    for name, parent_block in parent_template.blocks.items():
        context.blocks.setdefault(name, []).append(parent_block)
    l_0_page_title = 'Accessibility statement'
    context.vars['page_title'] = l_0_page_title
    context.exported_vars.add('page_title')
    yield from parent_template.root_render_func(context)

def block_content(context, missing=missing):
    resolve = context.resolve_or_missing
    undefined = environment.undefined
    concat = environment.concat
    cond_expr_undefined = Undefined
    if 0: yield None
    _block_vars = {}
    l_0_site = resolve('site')
    l_0_statement_date = resolve('statement_date')
    pass
    yield '<article class="reading-width">\n<h1>Accessibility statement</h1>\n<p>This statement is about this website: '
    yield escape(environment.getattr((undefined(name='site') if l_0_site is missing else l_0_site), 'title'))
    yield '.'
    if environment.getattr((undefined(name='site') if l_0_site is missing else l_0_site), 'organisation'):
        pass
        yield ' '
        yield escape(environment.getattr((undefined(name='site') if l_0_site is missing else l_0_site), 'organisation'))
        yield ' runs it.'
    yield "</p>\n<p>We want as many people as possible to be able to use it. You should be able to:</p>\n<ul>\n<li>make the text bigger, up to 4 times, without it going off the screen</li>\n<li>change the colours and fonts</li>\n<li>use it with only a keyboard</li>\n<li>use it with a screen reader</li>\n<li>read every page without JavaScript (search is the only part that needs it)</li>\n</ul>\n<p>We wrote the pages in plain English. Every picture has words that say what it shows.\nStories that may upset you start with a content warning.</p>\n\n<h2>How accessible this website is</h2>\n<p>We think this website meets the Web Content Accessibility Guidelines (WCAG) version 2.2 at level AA.</p>\n<p>A computer checks every page each time we make the website. It looks for common problems.\nA computer cannot find every problem, so people check pages too.</p>\n<p>Some stories may be hard to read. This is because they are in the storyteller's own words.</p>\n\n<h2>Tell us about a problem</h2>\n<p>If you find a problem, or you need a story in another format, please tell us.\nFor example, you may need it in large print, easy read, audio or braille.</p>\n"
    if environment.getattr((undefined(name='site') if l_0_site is missing else l_0_site), 'contact_email'):
        pass
        yield '<p>Email: <a href="mailto:'
        yield escape(environment.getattr((undefined(name='site') if l_0_site is missing else l_0_site), 'contact_email'))
        yield '">'
        yield escape(environment.getattr((undefined(name='site') if l_0_site is missing else l_0_site), 'contact_email'))
        yield '</a></p>\n<p>We will reply within 10 working days.</p>\n'
    else:
        pass
        yield '<p>Please contact '
        yield escape((environment.getattr((undefined(name='site') if l_0_site is missing else l_0_site), 'organisation') or 'the team that runs this website'))
        yield '.</p>\n'
    yield '\n<h2>If you are not happy with our reply</h2>\n<p>The Equality and Human Rights Commission (EHRC) makes sure these rules are followed.\nIf you are not happy with how we reply to you, contact the\n<a href="https://www.equalityadvisoryservice.com/">Equality Advisory and Support Service (EASS)</a>.</p>\n\n<h2>About this statement</h2>\n'
    if (undefined(name='statement_date') if l_0_statement_date is missing else l_0_statement_date):
        pass
        yield '<p>We wrote this statement on '
        yield escape((undefined(name='statement_date') if l_0_statement_date is missing else l_0_statement_date))
        yield '.</p>\n'
    yield '<p>We check it every time we change how the website works.</p>\n</article>\n'

blocks = {'content': block_content}
debug_info = '3=13&4=16&5=21&8=32&29=40&30=43&33=50&42=53&43=56'