-- wrk script: every request a push with tickets never used before, so the
-- database really inserts (a replay would only look up its index).
--   wrk ... -s push.lua URL -- SHAPE RUN     SHAPE: status1 | mixed50 | RUN: 0..48
local threads = 0

function setup(thread)
    thread:set("tid", threads)
    threads = threads + 1
end

local function enc(s)
    return (s:gsub("[^%w%-_%.~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end

-- Encoded text inside a string.format template: its own % doubled.
local function tpl(s) return (enc(s):gsub("%%", "%%%%")) end

local prefix = "u=gateway&p=secret&x="
local status_item = tpl("<MessageStatus><Ticket>") .. "%d" .. tpl("</Ticket><Status>") .. "%d" ..
    tpl("</Status><StatusMessage><![CDATA[Delivered To Handset]]></StatusMessage><Phone>+447700900001</Phone></MessageStatus>")
local inbound_item = tpl("<InboundMessage><Ticket>") .. "%d" .. tpl("</Ticket><MessageText><![CDATA[") .. "%s" ..
    tpl("]]></MessageText><Phone>") .. "%s" .. tpl("</Phone><Date>1764000000</Date><Destination>88020</Destination>" ..
    "<DestinationAccount>CollegeSMS</DestinationAccount></InboundMessage>")
local open_doc, close_doc = enc("<Response>"), enc("</Response>")
local help, absent = enc("HELP with homework"), enc("Absent today, sorry")

local shape, base, counter = "status1", 0, 0

function init(args)
    shape = args[1] or "status1"
    base = tonumber(args[2] or "0") * 200000000 + tid * 100000000
end

local function sender(i)
    if i % 5 == 1 then return string.format("%%2B4477009%05d", i % 50) end  -- a Moodle user
    if i % 8 == 2 then return string.format("%%2B4477008%05d", i % 40) end  -- an address-book contact
    return string.format("%%2B4477009%05d", 50000 + i)                      -- nobody known
end

local function body()
    counter = counter + 1
    if shape == "status1" then
        return prefix .. open_doc .. string.format(status_item, base + counter, 5) .. close_doc
    end
    local t = base + counter * 50
    local parts = {prefix, open_doc}
    for i = 0, 24 do parts[#parts + 1] = string.format(status_item, t + i, i % 7 - 1) end
    for i = 0, 24 do
        parts[#parts + 1] = string.format(inbound_item, t + 25 + i, i % 5 == 0 and help or absent, sender(i))
    end
    parts[#parts + 1] = close_doc
    return table.concat(parts)
end

function request()
    return wrk.format("POST", nil, {["Content-Type"] = "application/x-www-form-urlencoded"}, body())
end
