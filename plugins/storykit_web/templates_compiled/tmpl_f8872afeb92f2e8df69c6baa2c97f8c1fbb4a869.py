from jinja2.runtime import LoopContext, Macro, Markup, Namespace, TemplateNotFound, TemplateReference, TemplateRuntimeError, Undefined, escape, identity, internalcode, markup_join, missing, str_join
name = 'web/search.html'

def root(context, missing=missing):
    resolve = context.resolve_or_missing
    undefined = environment.undefined
    concat = environment.concat
    cond_expr_undefined = Undefined
    if 0: yield None
    parent_template = None
    l_0_page_title = missing
    pass
    parent_template = environment.get_template('web/base.html', 'web/search.html')
    for name, parent_block in parent_template.blocks.items():
        context.blocks.setdefault(name, []).append(parent_block)
    l_0_page_title = 'Search the stories'
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
    l_0_root = resolve('root')
    pass
    yield '<h1>Search the stories</h1>\n<div id="sk-search-nojs">\n<p>Search needs JavaScript, and it is turned off or not working in your browser.</p>\n<p>You can still find stories:</p>\n<ul>\n<li><a href="'
    yield escape((undefined(name='root') if l_0_root is missing else l_0_root))
    yield 'stories.html">see all stories, newest first</a></li>\n<li><a href="'
    yield escape((undefined(name='root') if l_0_root is missing else l_0_root))
    yield 'services.html">find stories by service</a></li>\n<li><a href="'
    yield escape((undefined(name='root') if l_0_root is missing else l_0_root))
    yield 'tags.html">find stories by topic</a></li>\n</ul>\n</div>\n<form id="sk-search-form" class="search-form" action="'
    yield escape((undefined(name='root') if l_0_root is missing else l_0_root))
    yield 'search.html" method="get" role="search" hidden>\n<label class="label" for="sk-search-input">Type a word or words, for example: ward, carer, waiting</label>\n<div class="search-form__row">\n<input class="input" type="search" id="sk-search-input" name="q" autocomplete="off" spellcheck="true">\n<button class="button" type="submit">Search</button>\n</div>\n</form>\n<p id="sk-search-status" class="search-status" role="status"></p>\n<ul id="sk-search-results" class="card-list"></ul>\n'

def block_scripts(context, missing=missing):
    resolve = context.resolve_or_missing
    undefined = environment.undefined
    concat = environment.concat
    cond_expr_undefined = Undefined
    if 0: yield None
    _block_vars = {}
    l_0_root = resolve('root')
    pass
    yield '<script src="'
    yield escape((undefined(name='root') if l_0_root is missing else l_0_root))
    yield 'search-index.js"></script>\n<script src="'
    yield escape((undefined(name='root') if l_0_root is missing else l_0_root))
    yield 'static/js/search.js"></script>\n'

blocks = {'content': block_content, 'scripts': block_scripts}
debug_info = '3=13&4=16&5=21&11=31&12=33&13=35&16=37&26=40&27=50&28=52'